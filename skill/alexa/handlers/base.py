"""Kept so importers outside the Alexa layer (the web app, Lambda, tests) find ``Deps`` where
they always did; handlers use :mod:`skill.alexa.turn`."""

from skill.alexa.turn import Deps

__all__ = ["Deps"]
