"""Query service: serves each story's chronological narrative. Events are read here."""
