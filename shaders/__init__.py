"""Built-in output shaders, one module per family. Each registers through the
``framebuf_output_shaders`` hook exactly as an installed plugin would."""
