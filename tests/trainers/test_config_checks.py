"""Each trainer's config refuses a bad number in one line naming the option as typed (one shared check)."""
import math

import pytest

from trainers.gan.train import TrainConfig as GanTrainConfig
from trainers.sr.train import TrainConfig as SrTrainConfig
from trainers.style.train import TrainConfig as StyleTrainConfig

FOLDERS = {StyleTrainConfig: ("style.png", "content", "run"), SrTrainConfig: ("paintings", "run"),
           GanTrainConfig: ("paintings", "run")}  # configs only: nothing is read or written


@pytest.mark.parametrize("config, fields, message", [
    (StyleTrainConfig, {"batch_size": 0}, "batch-size must be at least 1, got 0"),
    (StyleTrainConfig, {"lr": 0.0}, "lr must be positive, got 0.0"),
    (StyleTrainConfig, {"tv_weight": -1.0}, "tv-weight must be 0 or more, got -1.0"),
    (SrTrainConfig, {"holdout_every": 0}, "holdout-every must be at least 1, got 0"),
    (SrTrainConfig, {"perceptual_weight": math.nan}, "perceptual-weight must be 0 or more, got nan"),
    (GanTrainConfig, {"r1_every": 0}, "r1-every must be at least 1, got 0"),
])
def test_a_bad_number_is_refused_naming_its_option(config, fields, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        config(*FOLDERS[config], **fields)


@pytest.mark.parametrize("config", list(FOLDERS))
def test_the_defaults_pass(config):
    config(*FOLDERS[config])
