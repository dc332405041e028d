"""A transform across several GPUs through Ray: the driver analyses the video once, one actor per GPU
encodes chunks (models loaded once per actor), and the driver joins, muxes and signs as for one engine.

    run_transform_on_cluster(spec, ClusterOptions(address=…))   → TransformReport

Ray is imported only here, and only when a cluster is used (the ``cluster`` extra).
"""
