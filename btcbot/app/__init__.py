"""Application layer: wiring (one function builds the object graph), the cycle, the runner loop."""
