DROP TABLE users.exports;
