// One mini-language for a stack of layers in a URL, read by the convolution page's stack
// (?stack=c3-6k5,r,m2) and by the receptive-field page (?stack=c5,m2,c3s2p1d2): tokens joined
// by commas,
//   c5            a 5×5 convolution;  c3-6k5: from 3 channels to 6 (the shapes need them)
//   m2, a2        2×2 max or average pooling (stride: the window, unless s says otherwise)
//   r             ReLU
// and after c, m or a: s2 the stride, p1 the padding, d2 the dilation (in this order).
// A token it does not know is refused with a message that says why, never read as a default.

const TOKEN = /^(?:(r)|([cma])(?:(\d+)-(\d+)k)?(\d+)(?:s(\d+))?(?:p(\d+))?(?:d(\d+))?)$/;
const TYPES = { c: "conv", m: "maxpool", a: "avgpool", r: "relu" };

// What a page accepts: `channels` (the convolution page: every conv names its channels, no
// dilation; the receptive-field page: no channels) and the layer types it knows.
export const FIELDS = { channels: false, dilation: true, types: ["conv", "maxpool", "avgpool"],
  example: "c3,c5s2p1,c3d2,m2,a2" };
export const SHAPES = { channels: true, dilation: false, types: ["conv", "relu", "maxpool", "avgpool"],
  example: "c3-6k5,r,m2,c6-16k5s2p1" };

function layerOf(token, rules) {
  const m = token.match(TOKEN);
  if (!m) return `“${token}” is not a layer (write for example ${rules.example})`;
  const [, relu, letter, cin, cout, kernel, stride, padding, dilation] = m;
  const type = TYPES[relu || letter];
  if (!rules.types.includes(type)) return `“${token}”: this page takes no ${type} layer`;
  if (type === "relu") return { type };
  if (type === "conv" && rules.channels && cin === undefined) return `“${token}”: name its channels, as in c3-6k${kernel}`;
  if (cin !== undefined && (!rules.channels || type !== "conv")) return `“${token}”: ${type === "conv" ? "this page needs no channels" : "pooling keeps the channels"}, write ${letter}${kernel}`;
  if (dilation !== undefined && !rules.dilation) return `“${token}”: this page takes no dilation`;
  const k = Number(kernel);
  const layer = { type, kernel: k };
  if (cin !== undefined) Object.assign(layer, { in_channels: Number(cin), out_channels: Number(cout) });
  const defaultStride = type === "conv" ? 1 : k;
  if (rules.channels) { // the shapes route: stride and padding as given, pooling's stride left to its default
    if (type === "conv") Object.assign(layer, { stride: Number(stride ?? 1), padding: Number(padding ?? 0) });
    else if (stride !== undefined) layer.stride = Number(stride);
    if (type !== "conv" && padding !== undefined) layer.padding = Number(padding);
    return layer;
  }
  return Object.assign(layer, { stride: Number(stride ?? defaultStride), padding: Number(padding ?? 0),
    dilation: Number(dilation ?? 1) });
}

// The layers of `text`, or throws an Error naming every token it refuses.
export function parseStack(text, rules) {
  const tokens = text.split(",").map((t) => t.trim()).filter(Boolean);
  const layers = tokens.map((t) => layerOf(t, rules));
  const wrong = layers.filter((l) => typeof l === "string");
  if (wrong.length) throw new Error(wrong.join("; "));
  return layers;
}

// Its text: the shortest tokens that read back as the same layers.
export function encodeStack(layers) {
  return layers.map((l) => {
    if (l.type === "relu") return "r";
    const letter = { conv: "c", maxpool: "m", avgpool: "a" }[l.type];
    const channels = l.in_channels !== undefined ? `${l.in_channels}-${l.out_channels}k` : "";
    const defaultStride = l.type === "conv" ? 1 : l.kernel;
    const stride = l.stride !== undefined && l.stride !== defaultStride ? `s${l.stride}` : "";
    const padding = l.padding ? `p${l.padding}` : "";
    const dilation = l.dilation > 1 ? `d${l.dilation}` : "";
    return `${letter}${channels}${l.kernel}${stride}${padding}${dilation}`;
  }).join(",");
}
