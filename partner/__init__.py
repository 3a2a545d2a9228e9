"""A partner's questions to the registry from the command line (`registry-query`): what a
learner's credentials count for, where a credential counts, how far toward a qualification,
and the signed evidence behind a record."""
