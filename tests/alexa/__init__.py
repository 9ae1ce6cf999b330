"""The skill's behaviour: handlers, CanFulfill, screens, Alexa APIs, interaction models."""
