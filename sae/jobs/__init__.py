"""One module per workflow stage: each rule script calls one function of one of them.

Modules import only what their stage needs, since every job is a fresh process and
importing SAELens alone costs several seconds.
"""
