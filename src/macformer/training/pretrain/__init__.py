"""Self-pretraining of the encoder on the task's own training inputs (no labels):
`objectives` (masked tokens, next token), `head` (the token head) and `module` (the
Lightning module that trains them). Fine-tuning keeps the encoder only.

Nothing is imported here, so that importing the objectives does not load Lightning.
"""
