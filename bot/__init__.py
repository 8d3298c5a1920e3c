"""A bilingual (Lithuanian/English) document question-answering bot.

Data flows one way: corpus → chunking → embedding/index → retrieval → dialogue/answer →
front ends (cli, telegram_bot). The engine (:class:`bot.engine.Engine`) knows nothing of
Telegram.
"""
__version__ = "0.1.0"
