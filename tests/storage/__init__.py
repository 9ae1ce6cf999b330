"""The stores: TinyDB files, processes sharing them, DynamoDB."""
