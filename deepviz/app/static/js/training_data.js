// The student's own data for the training lab: points clicked onto the plane or read from a
// small CSV file (x,y,label), checked here with messages that say which line is wrong, and
// written into the URL compactly so that a link carries them.

export const MAX_CSV_BYTES = 64 * 1024; // a CSV of a few hundred points is a few kilobytes
const LABELS = ["0", "1", "2"];

// Two decimals are finer than a click can place a point, and keep a link short.
const short = (v) => String(Math.round(v * 100) / 100);

// "x,y,label;x,y,label;…" <-> [[x, y, label], …]
export function pointsText(points) {
  return points.map(([x, y, label]) => `${short(x)},${short(y)},${label}`).join(";");
}

// Read the URL's points; throws an Error saying what is wrong.
export function readPoints(text, most) {
  if (text === "") return [];
  const parts = text.split(";");
  if (parts.length > most) throw new Error(`at most ${most} points, not ${parts.length}`);
  return parts.map((part, i) => {
    const fields = part.split(",");
    const [x, y] = fields.slice(0, 2).map(Number);
    if (fields.length !== 3 || !Number.isFinite(x) || !Number.isFinite(y) || !LABELS.includes(fields[2])) {
      throw new Error(`point ${i + 1} is not x,y,label`);
    }
    if (Math.abs(x) > 1 || Math.abs(y) > 1) throw new Error(`point ${i + 1} lies outside [-1, 1]²`);
    return [x, y, Number(fields[2])];
  });
}

// A CSV file's text -> [[x, y, label], …]; throws an Error naming the first wrong line.
// A header line (x,y,label) is skipped; blank lines too; fields may be separated by commas,
// semicolons or tabs.
export function parseCsv(text, most) {
  const lines = text.split(/\r\n|\n|\r/);
  const points = [];
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/[,;\t]/).map((f) => f.trim());
    if (points.length === 0 && fields.some((f) => f !== "" && !Number.isFinite(Number(f)))
        && fields.join(",").toLowerCase().replace(/"/g, "") === "x,y,label") continue; // the header
    const where = `line ${n + 1}`;
    if (fields.length !== 3) throw new Error(`${where}: expected 3 values x,y,label, found ${fields.length}`);
    const [x, y] = fields.slice(0, 2).map((f) => (f === "" ? NaN : Number(f)));
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`${where}: x and y must be numbers, not “${fields[0]}” and “${fields[1]}”`);
    if (Math.abs(x) > 1 || Math.abs(y) > 1) throw new Error(`${where}: the point (${fields[0]}, ${fields[1]}) lies outside the square [-1, 1]²; scale your data into it`);
    const label = Number(fields[2]);
    if (!LABELS.includes(String(label)) || fields[2] === "") throw new Error(`${where}: the label must be 0, 1 or 2, not “${fields[2]}”`);
    points.push([x, y, label]);
    if (points.length > most) throw new Error(`the file has more than ${most} points: keep at most ${most}`);
  }
  if (points.length === 0) throw new Error("the file has no points: write one x,y,label per line");
  return points;
}

// Read a File the student chose: its points, or an Error to show.
export async function readCsvFile(file, most) {
  if (file.size > MAX_CSV_BYTES) {
    throw new Error(`the file is ${Math.ceil(file.size / 1024)} KB: at most ${MAX_CSV_BYTES / 1024} KB (a few hundred points)`);
  }
  let text;
  try {
    text = await file.text();
  } catch {
    throw new Error("the file could not be read");
  }
  if (text.includes("\u0000")) throw new Error("this is not a text file: save your points as CSV (x,y,label per line)");
  return parseCsv(text, most);
}
