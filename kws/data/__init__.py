"""Audio data for training: Speech Commands, folders, offline TTS, recordings -> one manifest."""
