"""Speech: audio fetch and conversion, offline recognition with Vosk, Russian number words."""
