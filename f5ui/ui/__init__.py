"""UI room: Gradio Blocks layout and the handlers that translate values to service calls."""
