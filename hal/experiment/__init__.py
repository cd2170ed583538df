"""Experiments (configuration + stimuli + what to record), running them, and their recordings."""

from hal.experiment.io import load_experiment, load_recording_summary, save_experiment, save_recording
from hal.experiment.model import Experiment, PoissonInput, Recording, SpikeArrayInput
from hal.experiment.populations import PopulationMap
from hal.experiment.run import LINK_CAPACITY_HZ, predicted_link_load, run

__all__ = ["Experiment", "PoissonInput", "Recording", "SpikeArrayInput", "PopulationMap", "run", "predicted_link_load", "LINK_CAPACITY_HZ",
           "load_experiment", "load_recording_summary", "save_experiment", "save_recording"]
