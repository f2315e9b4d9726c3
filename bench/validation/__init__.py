# The pieces of bench/validate_simulator.py: running distsgd (runs), the
# throttled network (netns), tables and the CSV (report), the sections
# (collectives, timing, accuracy, ablation) and the goals.
