// nothing: the startup bench imports it to measure what node's ESM file loader costs the first import
