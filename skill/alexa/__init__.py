"""The Alexa layer: the ask-sdk skill, handlers, interceptors, screens, Alexa API client."""
