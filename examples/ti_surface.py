"""TI surface with an out-of-plane ferromagnet: all response blocks at one point."""

import spintorque as st

model = st.models.DiracSurface(vf=1.0, delta=0.2, cutoff=20.0)
res = st.response(model, ef=0.3, eta=0.02, m=(0, 0, 1), temperature=0.0, rtol=1e-6)
print(res)
