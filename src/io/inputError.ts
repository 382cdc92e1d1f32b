/** Bad input from the user (a file, a flag): the CLI prints the message and exits 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
}
