"""Run by test_shader_pictures.py in its own process (pyglet fixes headless at its first import): a
fragment program with uniforms of each size drawn by the renderer, read back; prints the pixels as JSON.

    python -m tests.live.output.shader_picture_probe
"""
from __future__ import annotations

import json

from live.output.picture import FragmentProgram, ShaderPicture, Uniform
from live.output.render import RenderConfig, open_renderer

SOURCE = """#version 330 core
out vec4 colour;
uniform vec4 tint[2];
uniform float level;
uniform vec2 size;
uniform vec3 top;
void main() {
    vec2 pixel = gl_FragCoord.xy - 0.5;  // row 0 is the picture's first row
    if (pixel.y < 1.0) { colour = vec4(top, 1.0); return; }
    colour = vec4(pixel.x < size.x / 2.0 ? tint[0].rgb : tint[1].rgb * level, 1.0);
}
"""


def main() -> None:
    width, height = 16, 8
    renderer = open_renderer(RenderConfig(vsync=False, fit="stretch"),
                             (width, height), headless=True)
    program = FragmentProgram(SOURCE, "probe")
    renderer.shaders.prepare(program)
    picture = ShaderPicture(program, (Uniform("tint", 4, (1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0)),
                                      Uniform("level", 1, (0.5,)), Uniform("size", 2, (float(width), float(height))),
                                      Uniform("top", 3, (1.0, 1.0, 1.0))), width, height)
    renderer.present(picture)
    print(json.dumps(renderer.read_pixels().tolist()))
    renderer.close()


if __name__ == "__main__":
    main()
