// A play/pause button: advance() every `interval` ms until done(), or until paused.
export function player(button, { advance, done, restart = () => {}, interval = 800 }) {
  let timer = null;
  function stop() {
    clearInterval(timer);
    timer = null;
    button.textContent = "▶ Play";
  }
  function toggle() {
    if (timer) return stop();
    if (done()) restart();
    button.textContent = "⏸ Pause";
    timer = setInterval(() => (done() ? stop() : advance()), interval);
  }
  button.addEventListener("click", toggle);
  return { stop, toggle };
}
