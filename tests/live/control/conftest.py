"""A bus for three scenes of two kinds, as a show with two CPPN scenes and a pipeline would have."""
import pytest

from live.control.bus import ControlBus
from live.scenes.cppn import CppnScene
from live.scenes.kinds import control_bus
from live.scenes.pipeline import PipelineScene

SCENES = ["mirror", "bloom", "snow"]
SCENE_TYPES = [("mirror", CppnScene, CppnScene.PARAMETERS), ("bloom", CppnScene, CppnScene.PARAMETERS),
               ("snow", PipelineScene, PipelineScene.PARAMETERS)]


@pytest.fixture
def bus() -> ControlBus:
    return control_bus(SCENE_TYPES)
