"""newsflow's tests: unit/, integration/ and deploy/, with what they share in support/."""
