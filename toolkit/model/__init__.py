"""The data model: schemas, vocabularies and the tables derived from them."""
