"""taxi_flows: the shared code of the taxi-flows DAG bundle (schemas, download, transforms, loaders, SQL)."""
