"""Build-time code of build_stencils.py: reading ELF objects, writing and checking tables.

Needs pyelftools (the ``build`` extra); the runtime never imports this package.
"""
