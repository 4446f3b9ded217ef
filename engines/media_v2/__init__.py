"""media_v2: the asset and artifact registry, its object store and its HTTP endpoints."""
