"""What every layer shares: the event contract and the error tree. Imports nothing from the project."""
