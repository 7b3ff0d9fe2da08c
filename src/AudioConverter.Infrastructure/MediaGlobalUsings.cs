global using AudioConverter.Core.Media;
