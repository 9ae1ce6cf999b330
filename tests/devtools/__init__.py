"""Developer tools: simulator, web console, skill packaging."""
