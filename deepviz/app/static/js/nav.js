// The notes' contents: a sidebar on a wide screen, a menu that opens on a narrow one (a phone),
// so that the page's own content starts on its first screen. Loaded as a plain script right
// after the menu (templates/base.html), so it closes before the page is first drawn.
(() => {
  const menu = document.getElementById("toc-menu");
  const narrow = window.matchMedia("(max-width: 800px)");
  const fit = () => { menu.open = !narrow.matches; };
  fit();
  narrow.addEventListener("change", fit);
})();

// A link to a section (/convolution#stack-title) lands on it, and stays there while the figures
// above it load and push it down, until the student scrolls by themselves.
(() => {
  if (!location.hash) return;
  let moved = false;
  for (const kind of ["wheel", "touchmove", "keydown", "mousedown"]) {
    addEventListener(kind, () => { moved = true; }, { once: true, passive: true });
  }
  const keep = () => {
    const target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (!moved && target) target.scrollIntoView();
  };
  for (const ms of [200, 600, 1200, 2500, 4000]) setTimeout(keep, ms);
})();
