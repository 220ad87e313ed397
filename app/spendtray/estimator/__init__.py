"""Estimator: what a prompt will cost on several models before it is sent (SPEC §8).

Pure Python, no Qt: the server's request threads, the CLI and the GUI's worker thread call it.
``tokenizers`` loads the shipped tiktoken files, ``chat`` frames OpenAI message lists,
``approx`` labels non-OpenAI counts as estimates, ``counting`` ties them together per model and
``estimate`` prices the counts with ``spendtray.prices``. Import the submodules directly; this
package file stays empty so that importing the tokenizer never drags in the price data.
"""
