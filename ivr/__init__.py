"""Voice IVR call-flow server: Twilio webhooks answered from YAML call flows."""

__version__ = "0.1.0"
