"""One trainer for every setup, with safetensors checkpoints, resume and progress callbacks."""
