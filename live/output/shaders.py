"""Shader pictures drawn into the renderer's layer textures: each program compiled once, its uniforms set per frame.

A scene that computes its picture on the GPU hands the renderer a
`ShaderPicture` (live.output.picture): a fragment program and its uniforms.
`ShaderLayers` compiles each program the first time it is asked to (or when a
scene prepares it before the show starts), and draws it over a full-screen
quad into a layer texture through one framebuffer object; the crossfade then
samples that texture like an uploaded frame. Nothing here knows what a program
computes. pyglet comes in with the GL module the renderer passes.
"""
from __future__ import annotations

import ctypes

from live.output.picture import FragmentProgram, ShaderPicture, Uniform

VERTEX_SOURCE = """#version 330 core
in vec2 position;
void main() { gl_Position = vec4(position, 0.0, 1.0); }
"""


class ShaderUnavailable(RuntimeError):
    """The GL renderer cannot compile or run a fragment program; the message says why."""


class CompiledProgram:
    """A compiled fragment program and its full-screen quad, drawn into whatever framebuffer is bound."""

    def __init__(self, gl, program: FragmentProgram):
        from pyglet.graphics.shader import Shader, ShaderException, ShaderProgram

        self._gl = gl
        try:
            self._program = ShaderProgram(Shader(VERTEX_SOURCE, "vertex"), Shader(program.source, "fragment"))
        except ShaderException as error:
            first = next((line for line in str(error).splitlines() if "error" in line.lower()), str(error))
            raise ShaderUnavailable(f"{program.name}: the GL renderer cannot compile its shader: "
                                    f"{first.strip()[:200]}") from None
        self._quad = self._program.vertex_list(4, gl.GL_TRIANGLE_STRIP,
                                               position=("f", (-1.0, -1.0, 1.0, -1.0, -1.0, 1.0, 1.0, 1.0)))
        self._locations: dict[str, int] = {}

    def draw(self, uniforms: tuple[Uniform, ...]) -> None:
        gl = self._gl
        self._program.use()
        for uniform in uniforms:
            self._set(uniform)
        self._quad.draw(gl.GL_TRIANGLE_STRIP)
        self._program.stop()

    def _set(self, uniform: Uniform) -> None:
        gl = self._gl
        location = self._locations.get(uniform.name)
        if location is None:
            location = self._locations[uniform.name] = gl.glGetUniformLocation(
                self._program.id, uniform.name.encode())
        setter = (gl.glUniform1fv, gl.glUniform2fv, gl.glUniform3fv, gl.glUniform4fv)[uniform.components - 1]
        values = (ctypes.c_float * len(uniform.values))(*uniform.values)
        setter(location, len(uniform.values) // uniform.components, values)


class ShaderLayers:
    """The renderer's fragment programs, each compiled once, drawn into its layer textures."""

    def __init__(self, gl):
        self._gl = gl
        self._programs: dict[FragmentProgram, CompiledProgram] = {}
        self._framebuffer: int | None = None

    def prepare(self, program: FragmentProgram) -> None:
        """Compile now (raises ShaderUnavailable), so a scene knows before the show starts."""
        if program not in self._programs:
            self._programs[program] = CompiledProgram(self._gl, program)

    def draw_into(self, texture: int, picture: ShaderPicture) -> None:
        """Draw `picture` into `texture`, whose storage the caller has made the picture's size."""
        gl = self._gl
        self.prepare(picture.program)
        if self._framebuffer is None:
            framebuffer = gl.GLuint()
            gl.glGenFramebuffers(1, ctypes.byref(framebuffer))
            self._framebuffer = framebuffer.value
        bound = gl.GLint()
        gl.glGetIntegerv(gl.GL_FRAMEBUFFER_BINDING, ctypes.byref(bound))  # the window's own, restored below
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self._framebuffer)
        gl.glFramebufferTexture2D(gl.GL_FRAMEBUFFER, gl.GL_COLOR_ATTACHMENT0, gl.GL_TEXTURE_2D, texture, 0)
        gl.glViewport(0, 0, picture.width, picture.height)
        gl.glDisable(gl.GL_BLEND)  # the HUD leaves blending on; the program replaces the layer whole
        self._programs[picture.program].draw(picture.uniforms)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, bound.value)
