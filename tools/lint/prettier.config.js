// One formatting for the repo (the style the code was already written in).
export default {
  printWidth: 180,
  singleQuote: true,
  trailingComma: 'all',
  arrowParens: 'always',
};
