"""Qt item models over the service layer's typed records."""
