"""Terminal drawing both faces share: Rich renderables (half-block pictures, a conv layer's
filters) that the app's widgets show and the CLI prints. Rich only, never Textual: the CLI
draws them without loading the app."""
