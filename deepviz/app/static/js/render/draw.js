// A drawing pad: pointer events (mouse, pen and touch alike), strokes kept for undo. The
// canvas stays transparent where nothing is drawn; the server reads the ink from alpha.

export function drawingPad(canvas, onChange) {
  const ctx = canvas.getContext("2d");
  const strokes = [];
  let current = null;

  function paint() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#111";
    ctx.lineWidth = canvas.width / 14;
    for (const stroke of strokes) {
      ctx.beginPath();
      stroke.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      if (stroke.length === 1) ctx.lineTo(stroke[0][0] + 0.1, stroke[0][1]);
      ctx.stroke();
    }
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) / box.width) * canvas.width, ((event.clientY - box.top) / box.height) * canvas.height];
  }

  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    paint();
    onChange();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!current) return;
    for (const e of event.getCoalescedEvents ? event.getCoalescedEvents() : [event]) current.push(point(e));
    paint();
    onChange();
  });
  const end = () => { current = null; }; // lifting the pen changes nothing: no frame to send
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  return {
    clear() { strokes.length = 0; paint(); onChange(); },
    undo() { strokes.pop(); paint(); onChange(); },
    empty: () => strokes.length === 0,
    // sent at 84×84: three times what the network's 28×28 needs, a tenth of the pixels to decode
    dataURL: () => {
      const small = document.createElement("canvas");
      small.width = small.height = 84;
      small.getContext("2d").drawImage(canvas, 0, 0, 84, 84);
      return small.toDataURL("image/png");
    },
  };
}
