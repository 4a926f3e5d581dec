"""LLM backends, prompts, reply parsing, the closed-loop planner, its critic and loop guard."""
