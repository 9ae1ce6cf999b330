"""Developer tools on top of the web app: the simulator library, the web console, packaging."""
