"""Training: recipes, chat templates and label masks, backends, the run loop, evaluation."""
