"""RGB-D frames -> per-frame percepts (objects in the world frame) and occupancy points."""
