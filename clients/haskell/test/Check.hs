-- | Just enough of a test harness: named checks, failures counted, a summary.
module Check
  ( Tests
  , newTests
  , group
  , check
  , checkEq
  , skip
  , failNow
  , summary
  ) where

import Control.Exception (SomeException, displayException, try)
import Control.Monad (unless)
import Data.IORef
import System.IO (hFlush, stdout)

data Tests = Tests
  { tPassed :: IORef Int
  , tFailed :: IORef [String]
  , tSkipped :: IORef Int
  }

newTests :: IO Tests
newTests = Tests <$> newIORef 0 <*> newIORef [] <*> newIORef 0

-- | Run a named group; an exception out of it is one failure.
group :: Tests -> String -> IO () -> IO ()
group t name body = do
  r <- try body
  case r of
    Right () -> pure ()
    Left e -> failNow t name ("exception: " ++ displayException (e :: SomeException))

check :: Tests -> String -> Bool -> IO ()
check t name ok
  | ok = modifyIORef' (tPassed t) (+ 1)
  | otherwise = failNow t name "false"

checkEq :: (Eq a, Show a) => Tests -> String -> a -> a -> IO ()
checkEq t name got want
  | got == want = modifyIORef' (tPassed t) (+ 1)
  | otherwise = failNow t name ("\n   got: " ++ show got ++ "\n  want: " ++ show want)

skip :: Tests -> String -> IO ()
skip t why = do
  modifyIORef' (tSkipped t) (+ 1)
  putStrLn ("SKIP " ++ why)

failNow :: Tests -> String -> String -> IO ()
failNow t name why = do
  modifyIORef' (tFailed t) (name :)
  putStrLn ("FAIL " ++ name ++ ": " ++ why)
  hFlush stdout

-- | Print the counts; True when nothing failed.
summary :: Tests -> IO Bool
summary t = do
  passed <- readIORef (tPassed t)
  failed <- readIORef (tFailed t)
  skipped <- readIORef (tSkipped t)
  putStrLn (show passed ++ " checks passed, " ++ show (length failed) ++ " failed, " ++ show skipped ++ " groups skipped")
  unless (null failed) (putStrLn ("failed: " ++ unwords (reverse failed)))
  pure (null failed)
