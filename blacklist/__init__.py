"""List rules: abnormal operations, serious illegal & dishonest, sector lists (to come)."""
