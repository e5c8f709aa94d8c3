"""Value semantics, the bottom layer every other part of featurekit builds on.

One module per idea: how two values compare (:mod:`~featurekit.values.equality`), how values
travel as JSON (:mod:`~featurekit.values.codec`), how content is hashed
(:mod:`~featurekit.values.hashing`), how rows become frames and back
(:mod:`~featurekit.values.frames`), which values are the edge cases worth testing
(:mod:`~featurekit.values.edges`), how text becomes a timestamp or number
(:mod:`~featurekit.values.parse`), the batch column representation
(:mod:`~featurekit.values.column`) and the scalar helpers the generated row code calls, each the
twin of a batch kernel (:mod:`~featurekit.values.rowlib`). Nothing here imports another featurekit layer except
:mod:`featurekit.errors` and :mod:`featurekit.types`.
"""
