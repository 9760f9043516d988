"""The records on the topics: the input message a stage reads, the JSON Schema contracts,
document ids, CloudEvents headers, dead letters and the outgoing records built from them."""
