// A drawing pad: pointer events (mouse, pen and touch alike), strokes kept for undo. The
// canvas stays transparent where nothing is drawn; the server reads the ink from alpha.
// A 28×28 image may lie under the strokes (show(levels): a drawing from a link, 0..255 each).

const SIDE = 84;

export function drawingPad(canvas, onChange) {
  const ctx = canvas.getContext("2d");
  const strokes = [];
  let current = null;
  let under = null; // the 28×28 image under the strokes, as a small canvas, or null

  function paint() {
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (under) {
      ctx.imageSmoothingEnabled = false; // its 784 pixels as squares: what the network saw
      ctx.drawImage(under, 0, 0, canvas.width, canvas.height);
    }
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
    clear() { strokes.length = 0; under = null; paint(); onChange(); },
    undo() { if (strokes.length) strokes.pop(); else under = null; paint(); onChange(); },
    empty: () => strokes.length === 0 && !under,
    drawn: () => strokes.length > 0, // strokes of the student's own, beyond the image shown
    // show a 28×28 image (784 levels, light ink on black as MNIST's) as ink, without strokes
    show(levels) {
      strokes.length = 0;
      under = document.createElement("canvas");
      under.width = under.height = 28;
      const small = under.getContext("2d");
      const image = small.createImageData(28, 28);
      levels.forEach((level, i) => image.data.set([17, 17, 17, level], 4 * i)); // the strokes' ink, as opaque as bright
      small.putImageData(image, 0, 0);
      paint();
    },
    // sent at 84×84: three times what the network's 28×28 needs, a tenth of the pixels to decode
    dataURL: () => {
      const small = document.createElement("canvas");
      small.width = small.height = SIDE;
      small.getContext("2d").drawImage(canvas, 0, 0, SIDE, SIDE);
      return small.toDataURL("image/png");
    },
    // the ink at 84×84 (three times what the network's 28×28 needs): its alpha channel, the
    // bytes mnist.js makes the network's input from, as the server would from the picture
    ink: () => {
      const small = document.createElement("canvas");
      small.width = small.height = SIDE;
      const smallCtx = small.getContext("2d", { willReadFrequently: true });
      smallCtx.drawImage(canvas, 0, 0, SIDE, SIDE);
      const rgba = smallCtx.getImageData(0, 0, SIDE, SIDE).data;
      return { alpha: Uint8Array.from({ length: SIDE * SIDE }, (_, i) => rgba[4 * i + 3]), side: SIDE };
    },
  };
}
