"""A CPPN as an OpenGL fragment program, generated from the model file's own weights and card.

The renderer that owns the GL context draws it into a layer texture, so a CPPN
scene costs the GPU one pass per pixel and the CPU almost nothing: any GPU
with OpenGL 3.3 (Intel, AMD, Apple, NVIDIA without CUDA) runs it. The program
computes exactly the exported graph, per pixel: x, y (the unit grid of
live.scenes.cppn_math.coordinates, from the pixel's row and column), r, the
input layer with the per-frame scale and the latent term (computed once per
frame on the CPU, CppnWeights.latent_term), the hidden layers, the colour layer.
Units are packed four to a vec4 (zero-padded: padded units meet only zero
weights), each layer a sum of mat4 blocks from constant arrays. tanh, softplus
and sigmoid are written out in forms that cannot overflow, since GLSL's own
tanh may compute exp(2x) and give NaN for large inputs.

What comes out is the renderer's plain vocabulary (live.output.picture): a
FragmentProgram, and per frame a ShaderPicture of it with its uniforms; the
renderer draws it without knowing it is a CPPN.
"""
from __future__ import annotations

import numpy as np

from live.output.picture import FragmentProgram, ShaderPicture, Uniform
from live.inference.cppn_weights import CppnWeights

_FUNCTIONS = """
vec4 stable_tanh(vec4 x) { vec4 t = exp(-2.0 * abs(x)); return sign(x) * (1.0 - t) / (1.0 + t); }
vec4 softplus(vec4 x) { return max(x, 0.0) + log(1.0 + exp(-abs(x))); }
vec4 gaussian(vec4 x) { return exp(-x * x); }
vec3 sigmoid(vec3 x) { return 1.0 / (1.0 + exp(-x)); }
"""


def _blocks(n: int) -> int:
    return (n + 3) // 4


def _pad(array: np.ndarray, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    padded = np.zeros((rows or array.shape[0], cols or array.shape[1]), dtype=np.float32)
    padded[:array.shape[0], :array.shape[1]] = array
    return padded


def _float(value: float) -> str:
    text = f"{float(value):.9g}"  # 9 significant digits round-trip a float32 exactly
    return text if any(c in text for c in ".en") else text + ".0"  # "inf"/"nan" never occur in weights


def _glsl_array(kind: str, name: str, items: list[list[float]]) -> str:
    body = ",\n  ".join(f"{kind}({', '.join(_float(v) for v in item)})" for item in items)
    return f"const {kind} {name}[{len(items)}] = {kind}[](\n  {body});\n"


def _mat4_blocks(weight: np.ndarray, blocks_out: int, blocks_in: int) -> list[list[float]]:
    """(out, in) weights -> mat4 blocks, row-major over (out block, in block); GLSL's mat4 takes
    its 16 values column by column, and M * h with column c = input unit 4j + c."""
    padded = _pad(weight, 4 * blocks_out, 4 * blocks_in)
    return [padded[4 * i:4 * i + 4, 4 * j:4 * j + 4].T.reshape(-1).tolist()
            for i in range(blocks_out) for j in range(blocks_in)]


def fragment_source(weights: CppnWeights, name: str = "cppn") -> FragmentProgram:
    card = weights.card
    n, arch = weights.net_size, card.arch
    nb = _blocks(n)
    parts = ["#version 330 core\n", f"// CPPN {name}: {card.describe()}, net {n}, depth {weights.depth}\n",
             "out vec4 colour;\n", f"uniform vec4 latent[{nb}];\n",
             "uniform float scale;\nuniform vec2 extent;\nuniform vec2 size;\n", _FUNCTIONS]
    coords = _pad(weights.tensors["from_coords.weight"], 4 * nb, 3)  # (n, 3) -> mat3x4 per block
    parts.append(_glsl_array("mat3x4", "COORDS", [coords[4 * i:4 * i + 4].T.reshape(-1).tolist() for i in range(nb)]))
    activations = []
    for index, (weight, bias) in enumerate(weights.hidden()):
        parts.append(_glsl_array("mat4", f"W{index}", _mat4_blocks(weight, nb, nb)))
        parts.append(_glsl_array("vec4", f"B{index}", _pad(bias[:, None], 4 * nb, 1).reshape(nb, 4).tolist()))
        activations.append(_activation(arch, index))
    colour = _pad(weights.tensors["to_colour.weight"], 3, 4 * nb)  # gray repeats its one row below
    if card.c_dim == 1:
        colour = np.repeat(colour[:1], 3, axis=0)
    colour_bias = np.resize(weights.tensors["to_colour.bias"], 3)
    parts.append(_glsl_array("mat4x3", "COLOUR", [colour[:, 4 * j:4 * j + 4].T.reshape(-1).tolist()
                                                  for j in range(nb)]))
    parts.append(f"const vec3 COLOUR_BIAS = vec3({', '.join(_float(v) for v in colour_bias)});\n")
    parts.append(_main(nb, activations, arch))
    return FragmentProgram("".join(parts), name)


def _activation(arch: str, index: int) -> str:
    if arch == "softplus_tanh":
        return "softplus" if index % 2 == 0 else "stable_tanh"
    return "gaussian" if arch == "gaussian" else "stable_tanh"


def _main(nb: int, activations: list[str], arch: str) -> str:
    # Written out unit block by unit block: constant indices keep every vec4 in registers, where
    # loops over arrays make some compilers (llvmpipe among them) spill them to memory.
    lines = [
        "void main() {",
        "    // the pixel's row and column as numpy counts them (row 0 is the texture's first row)",
        "    vec2 pixel = gl_FragCoord.xy - 0.5;",
        "    vec2 unit = vec2(size.x > 1.0 ? pixel.x / (size.x - 1.0) : 0.5, size.y > 1.0 ? pixel.y / (size.y - 1.0) : 0.5);",
        "    vec2 xy = extent * (2.0 * unit - 1.0);",
        "    vec3 xyr = vec3(xy, sqrt(dot(xy, xy)));",
    ]
    lines += [f"    vec4 h{i} = stable_tanh(scale * (COORDS[{i}] * xyr) + latent[{i}]);" for i in range(nb)]
    for index, activation in enumerate(activations):
        for i in range(nb):
            total = " + ".join(f"W{index}[{i * nb + j}] * h{j}" for j in range(nb))
            lines.append(f"    vec4 n{index}_{i} = B{index}[{i}] + {total};")
        for i in range(nb):
            update = f"h{i} + stable_tanh(n{index}_{i})" if arch == "residual" else f"{activation}(n{index}_{i})"
            lines.append(f"    h{i} = {update};")
    ending = "0.5 + 0.5 * sin(out3)" if arch == "sine" else "sigmoid(out3)"
    lines += [
        "    vec3 out3 = COLOUR_BIAS + " + " + ".join(f"COLOUR[{j}] * h{j}" for j in range(nb)) + ";",
        f"    colour = vec4({ending}, 1.0);",
        "}",
        "",
    ]
    return "\n".join(lines)


def shader_picture(program: FragmentProgram, weights: CppnWeights, z: np.ndarray, scale: float,
                   width: int, height: int, keep_aspect: bool) -> ShaderPicture:
    """The picture of z (z_dim,) at `scale`, `width` x `height`; the extents follow coordinates()."""
    latent = np.zeros(4 * _blocks(weights.net_size), dtype=np.float32)
    latent[:weights.net_size] = weights.latent_term(z)
    x_extent = y_extent = 1.0
    if keep_aspect:
        short = min(width, height)
        x_extent, y_extent = width / short, height / short
    uniforms = (Uniform("latent", 4, tuple(latent.tolist())), Uniform("scale", 1, (float(scale),)),
                Uniform("extent", 2, (x_extent, y_extent)), Uniform("size", 2, (float(width), float(height))))
    return ShaderPicture(program, uniforms, width, height)
