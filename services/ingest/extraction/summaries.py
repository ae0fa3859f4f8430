def write(findings, doc):
    pass
